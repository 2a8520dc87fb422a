# Reference values for tests/analysis/test_binary.py (yes/no measures), computed independently
# in base R from the published formulas. Run: Rscript tests/analysis/reference/binary_reference.R
# Its output is kept in binary_reference.out beside it; the tests compare with that file, and
# when Rscript is installed they run this script again and compare with its fresh output.
#
# Tables are (both, before_only, after_only, neither): pairs at the better answer before and
# after, before only, after only, neither. The difference is after minus before.

wilson <- function(k, n, z) {
  # Wilson (1927) score interval, closed form (Newcombe 1998, Stat Med 17:857, method 3).
  p <- k / n
  centre <- (2 * n * p + z^2) / (2 * (n + z^2))
  half <- z * sqrt(z^2 + 4 * n * p * (1 - p)) / (2 * (n + z^2))
  c(centre - half, centre + half)
}

newcombe10 <- function(a, b, c, d, level = 0.95) {
  # Newcombe (1998), Stat Med 17:2635-2650, method 10, for theta = p_after - p_before with
  # p_before = (a + b) / n and p_after = (a + c) / n.
  n <- a + b + c + d
  z <- qnorm(1 - (1 - level) / 2)
  p1 <- (a + b) / n; p2 <- (a + c) / n
  w1 <- wilson(a + b, n, z); w2 <- wilson(a + c, n, z)
  # Continuity-corrected phi, 0 when any margin is empty.
  margins <- (a + b) * (c + d) * (a + c) * (b + d)
  cross <- a * d - b * c
  phi <- if (margins == 0) 0 else if (cross > n / 2) (cross - n / 2) / sqrt(margins) else
    if (cross >= 0) 0 else cross / sqrt(margins)
  dl2 <- p2 - w2[1]; du2 <- w2[2] - p2
  dl1 <- p1 - w1[1]; du1 <- w1[2] - p1
  theta <- p2 - p1
  c(estimate = theta,
    low = theta - sqrt(dl2^2 - 2 * phi * dl2 * du1 + du1^2),
    high = theta + sqrt(du2^2 - 2 * phi * du2 * dl1 + dl1^2),
    phi = phi)
}

mcnemar_tail <- function(improved, deteriorated) {
  # Exact two-sided p by summing the binomial(k, 1/2) probabilities no larger than observed.
  k <- improved + deteriorated
  probs <- dbinom(0:k, k, 0.5)
  sum(probs[probs <= dbinom(improved, k, 0.5) * (1 + 1e-7)])
}

show <- function(name, value) cat(sprintf("%s = %.15g\n", name, value))

tables <- list(
  # Published method 10 intervals, there as first minus second (here: the negative):
  newcombe_example = c(20, 12, 2, 16),   # 0.0562 to 0.3292 (Newcombe 1998, via ratesci's tests)
  fagerland_bentur = c(1, 1, 7, 12),     # -0.507 to -0.026 (Fagerland et al. 2014)
  fagerland_cavo = c(59, 6, 16, 80),     # -0.1186 to -0.0046 (Fagerland et al. 2017, ch. 8)
  chang = c(7, 25, 2, 68),               # 0.133 to 0.318 (Chang 2024, via ratesci's tests)
  recalled = c(12, 9, 2, 4),
  negative_phi = c(1, 8, 9, 2),
  small_positive_cross = c(10, 9, 2, 3), # ad - bc = n / 2 exactly: phi 0
  large = c(400, 150, 250, 200),
  all_better_both_times = c(5, 0, 0, 0), # margins zero: phi 0
  none_better = c(0, 0, 0, 7),
  all_improved = c(0, 0, 6, 0),
  all_deteriorated = c(0, 5, 0, 0),
  one_pair = c(0, 0, 1, 0),
  column_zero = c(3, 0, 4, 0)
)
for (name in names(tables)) {
  x <- tables[[name]]
  r <- newcombe10(x[1], x[2], x[3], x[4])
  for (part in names(r)) show(sprintf("newcombe10(%s).%s", name, part), r[[part]])
  if (x[2] + x[3] > 0) {
    show(sprintf("binom.test(%s)", name), binom.test(x[3], x[2] + x[3], 0.5)$p.value)
    show(sprintf("mcnemar_tail(%s)", name), mcnemar_tail(x[3], x[2]))
  }
}

# Outcomes asked at follow-up only: a share with its Wilson interval, a mean with its t interval.
z95 <- qnorm(0.975)
w <- wilson(5, 8, z95); show("wilson(5, 8).low", w[1]); show("wilson(5, 8).high", w[2])
w <- wilson(0, 4, z95); show("wilson(0, 4).low", w[1]); show("wilson(0, 4).high", w[2])
scores <- c(7, 7, 8, 3, 10, 0, 5)
show("scores.mean", mean(scores)); show("scores.median", median(scores))
show("scores.sd", sd(scores))
tt <- t.test(scores)$conf.int; show("scores.t.low", tt[1]); show("scores.t.high", tt[2])
