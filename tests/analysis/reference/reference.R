# Reference values for tests/analysis/test_analysis_reference.py and test_arms.py, computed
# independently in base R (R 4.2) by brute-force enumeration and base R's own tests.
# Run: Rscript tests/analysis/reference/reference.R (output kept in reference.out). The values
# are hard-coded in test_analysis_reference.py; test_arms.py reads reference.out and, when R is
# installed, runs this script again and compares. The tests never need R.

signed_rank_p <- function(d) {
  # Exact two-sided signed-rank p with mid-ranks for ties: every one of the 2^k sign patterns.
  d <- d[d != 0]
  k <- length(d)
  r <- rank(abs(d))                      # average ranks for ties
  w <- sum(r[d > 0])
  signs <- as.matrix(expand.grid(rep(list(c(0, 1)), k)))
  null <- signs %*% r
  mu <- k * (k + 1) / 4
  # two-sided: at least as far from the centre (the null is symmetric)
  mean(abs(null - mu) >= abs(w - mu) - 1e-9)
}

mann_whitney_p <- function(x, y) {
  # Exact two-sided p = P(|U - n1 n2 / 2| >= |u - n1 n2 / 2|) over every split of the pool.
  pool <- c(x, y); n1 <- length(x); n2 <- length(y)
  r <- rank(pool)
  u <- sum(r[seq_len(n1)]) - n1 * (n1 + 1) / 2
  splits <- combn(length(pool), n1)
  us <- apply(splits, 2, function(s) sum(r[s])) - n1 * (n1 + 1) / 2
  mean(abs(us - n1 * n2 / 2) >= abs(u - n1 * n2 / 2) - 1e-9)
}

show <- function(name, value) cat(sprintf("%s = %.15g\n", name, value))

d15 <- c(1, 1, 1, 2, 2, 2, 3, 3, -1, 4, 4, 5, 1, 2, 3)
d16 <- c(d15, 2)
show("signed_rank_p(d15)", signed_rank_p(d15))
show("signed_rank_p(d16)", signed_rank_p(d16))
six <- c(2, 0, -1, 2, 0, 3)
show("signed_rank_p(six)", signed_rank_p(six))
untied <- c(3, -1, 4, 15, 9, -2, 6, 5, 35, 8, 97, 93, 23, 84, -62, 64, 33, 27, 95, 28)
show("wilcox.test(untied, exact=TRUE)", wilcox.test(untied, exact = TRUE)$p.value)
show("mann_whitney_p(5 6 6 7 8 | 4 5 5 6 3)", mann_whitney_p(c(5, 6, 6, 7, 8), c(4, 5, 5, 6, 3)))
show("mann_whitney_p(5 | 5 5 6)", mann_whitney_p(c(5), c(5, 5, 6)))
show("mann_whitney_p(2 | 5 5 6 6 7)", mann_whitney_p(c(2), c(5, 5, 6, 6, 7)))
show("mann_whitney_p(1 2 2 3 | 2 3 3 4 4 4 5)",
     mann_whitney_p(c(1, 2, 2, 3), c(2, 3, 3, 4, 4, 4, 5)))
show("mann_whitney_p(1 1 1 2 | 1 2 2 2 3)", mann_whitney_p(c(1, 1, 1, 2), c(1, 2, 2, 2, 3)))
show("wilcox.test(1 2 3 | 4 5 6 7) exact", wilcox.test(c(1, 2, 3), c(4, 5, 6, 7))$p.value)
show("binom.test(5, 13)", binom.test(5, 13)$p.value)
tt <- t.test(c(1, 3))$conf.int
show("t.test(1 3) low", tt[1]); show("t.test(1 3) high", tt[2])

# --- Comparison groups (issue 13): tests/analysis/test_arms.py reads these lines ("arms.").
# Risk difference: Newcombe (1998, Stat Med 17:873-890) method 10 from the Wilson limits that
# prop.test(correct = FALSE) prints. Risk ratio: Koopman's (1984) score statistic written out
# here on its own terms (the constrained maximum likelihood found by optimize() on the binomial
# log-likelihood, not by the closed-form root used in analysis/arms.py) and solved by uniroot().
wilson_limits <- function(x, n) prop.test(x, n, correct = FALSE)$conf.int[1:2]

newcombe_unpaired <- function(x1, n1, x2, n2) {
  p1 <- x1 / n1; p2 <- x2 / n2
  w1 <- wilson_limits(x1, n1); w2 <- wilson_limits(x2, n2)
  d <- p1 - p2
  c(estimate = d, low = d - sqrt((p1 - w1[1])^2 + (w2[2] - p2)^2),
    high = d + sqrt((w1[2] - p1)^2 + (p2 - w2[1])^2))
}

koopman_stat <- function(phi, x1, n1, x2, n2) {
  nll <- function(p2) -(dbinom(x1, n1, phi * p2, log = TRUE) + dbinom(x2, n2, p2, log = TRUE))
  p2 <- optimize(nll, c(0, min(1, 1 / phi)), tol = 1e-13)$minimum
  p1 <- phi * p2
  term <- function(x, n, p) if (abs(x - n * p) < 1e-12) 0 else (x - n * p)^2 / (n * p * (1 - p))
  term(x1, n1, p1) + term(x2, n2, p2)
}

koopman_ci <- function(x1, n1, x2, n2, level = 0.95) {
  crit <- qchisq(level, 1)
  f <- function(t) koopman_stat(exp(t), x1, n1, x2, n2) - crit
  centre <- if (x1 > 0 && x2 > 0) log((x1 / n1) / (x2 / n2)) else if (x1 == 0) -30 else 30
  low <- if (x1 == 0) 0 else exp(uniroot(f, c(centre - 30, centre), tol = 1e-13)$root)
  high <- if (x2 == 0) Inf else exp(uniroot(f, c(centre, centre + 30), tol = 1e-13)$root)
  c(low = low, high = high)
}

binary_tables <- list(
  newcombe = c(56, 70, 48, 80),        # Newcombe 1998 example: 0.0524 to 0.3339
  working_links = c(79, 330, 44, 330), # the seed's job entries, 330 assumed in each arm
  koopman = c(36, 40, 16, 80),         # Koopman 1984 example: 2.94 to 7.15
  small = c(3, 10, 1, 12),
  zero_first = c(0, 10, 4, 12),
  zero_second = c(5, 8, 0, 9),
  all_better = c(10, 10, 12, 12),
  first_full = c(20, 20, 5, 10),
  sparse = c(7, 34, 1, 34),
  large = c(2500, 5000, 2400, 5000)
)
for (name in names(binary_tables)) {
  x <- binary_tables[[name]]
  nd <- newcombe_unpaired(x[1], x[2], x[3], x[4])
  for (part in names(nd)) show(sprintf("arms.newcombe(%s).%s", name, part), nd[[part]])
  kp <- koopman_ci(x[1], x[2], x[3], x[4])
  for (part in names(kp)) if (is.finite(kp[[part]]))
    show(sprintf("arms.koopman(%s).%s", name, part), kp[[part]])
  tab <- matrix(c(x[1], x[2] - x[1], x[3], x[4] - x[3]), nrow = 2, byrow = TRUE)
  show(sprintf("arms.fisher(%s)", name), fisher.test(tab)$p.value)
}

# Mann-Whitney, Hodges-Lehmann shift and Welch: wilcox.test and t.test themselves.
two_samples <- list(
  hollander_wolfe = list(x = c(0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46),
                         y = c(1.15, 0.88, 0.90, 0.74, 1.21)),
  residues = list(x = (7 * (1:30)) %% 101, y = (7 * (31:70)) %% 101),
  shifted = list(x = c(12, 15, 3, 22, 8, 19, 25, 30), y = c(1, 4, 9, 2, 14, 6, 11))
)
for (name in names(two_samples)) {
  x <- two_samples[[name]]$x; y <- two_samples[[name]]$y
  w <- wilcox.test(x, y, exact = TRUE, conf.int = TRUE)
  show(sprintf("arms.wilcox(%s).p", name), w$p.value)
  show(sprintf("arms.wilcox(%s).W", name), w$statistic)
  show(sprintf("arms.wilcox(%s).estimate", name), w$estimate)
  show(sprintf("arms.wilcox(%s).low", name), w$conf.int[1])
  show(sprintf("arms.wilcox(%s).high", name), w$conf.int[2])
  qu <- qwilcox(0.025, length(x), length(y))
  show(sprintf("arms.wilcox(%s).achieved", name), 1 - 2 * pwilcox(qu - 1, length(x), length(y)))
  tt <- t.test(x, y)$conf.int
  show(sprintf("arms.welch(%s).low", name), tt[1]); show(sprintf("arms.welch(%s).high", name), tt[2])
}
tied_x <- c(3, 5, 5, 6, 7, 7, 7, 9, 10, 4, 6, 6)
tied_y <- c(2, 4, 4, 5, 5, 6, 3, 3, 7)
show("arms.wilcox(tied).p", wilcox.test(tied_x, tied_y, exact = FALSE, correct = TRUE)$p.value)
tt <- t.test(tied_x, tied_y)$conf.int
show("arms.welch(tied).low", tt[1]); show("arms.welch(tied).high", tt[2])
