# Reference values for tests/analysis/test_analysis_reference.py, computed independently in
# base R (R 4.2) by brute-force enumeration. Run: Rscript tests/analysis/reference/reference.R
# The printed values are hard-coded in the tests; the tests never need R.

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
