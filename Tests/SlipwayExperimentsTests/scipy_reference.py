"""Reference values for StatisticsTests.swift, computed with scipy.

Run `python3 Tests/SlipwayExperimentsTests/scipy_reference.py` and compare with the literals in
StatisticsTests.swift (printed with 17 significant digits, so they read back as the same doubles).
"""

import numpy as np
from scipy import stats


def show(label, value):
    print(f"{label} = {float(value)!r}")


print("# Normal CDF")
for x in [-10.0, -3.5, -1.96, -0.5, 0.0, 0.3, 1.6448536269514722, 2.5, 8.0]:
    show(f"norm.cdf({x!r})", stats.norm.cdf(x))
print("# Normal survival")
for x in [5.0, 12.0, 30.0]:
    show(f"norm.sf({x!r})", stats.norm.sf(x))
print("# Normal quantile")
for p in [1e-300, 1e-12, 1e-5, 0.001, 0.025, 0.3, 0.5, 0.8, 0.975, 0.999999]:
    show(f"norm.ppf({p!r})", stats.norm.ppf(p))

print("# Student t CDF")
for df in [1.0, 2.5, 10.0, 1000.0, 1e7]:
    for t in [-40.0, -3.0, -1.2, 0.0, 0.7, 2.1, 5.0]:
        show(f"t.cdf({t!r}, df={df!r})", stats.t.cdf(t, df))
print("# Student t quantile")
for df in [1.0, 2.5, 10.0, 1000.0, 1e7]:
    for p in [1e-8, 0.001, 0.025, 0.3, 0.6, 0.975, 0.995]:
        show(f"t.ppf({p!r}, df={df!r})", stats.t.ppf(p, df))

print("# Student t, extreme tails")
for t, df in [(-1e101, 1.5), (-1e120, 1.5), (-1e60, 0.5), (-3e5, 2.5)]:
    show(f"t.cdf({t!r}, df={df!r})", stats.t.cdf(t, df))
for p, df in [(1e-100, 1.5), (1e-100, 3.0), (1e-250, 30.0)]:
    show(f"t.ppf({p!r}, df={df!r})", stats.t.ppf(p, df))

print("# Welch t-test on raw values (candidate - baseline)")
baseline = [12.1, 9.8, 11.4, 10.2, 13.5, 10.9, 11.7, 9.4, 12.8, 10.6, 11.1, 12.3]
candidate = [13.2, 12.9, 10.8, 14.1, 13.7, 12.2, 15.0, 11.9, 13.4, 12.6, 14.4, 13.1, 12.0, 13.9, 14.6]
res = stats.ttest_ind(candidate, baseline, equal_var=False)
show("statistic", res.statistic)
show("pvalue", res.pvalue)
show("df", res.df)
ci = res.confidence_interval(0.95)
show("diff ci low", ci.low)
show("diff ci high", ci.high)
for name, values in [("baseline", baseline), ("candidate", candidate)]:
    arr = np.array(values)
    show(f"{name} mean", arr.mean())
    show(f"{name} var ddof=1", arr.var(ddof=1))
    low, high = stats.t.interval(0.95, len(arr) - 1, loc=arr.mean(), scale=stats.sem(arr))
    show(f"{name} mean ci low", low)
    show(f"{name} mean ci high", high)
se = np.sqrt(np.var(baseline, ddof=1) / len(baseline) + np.var(candidate, ddof=1) / len(candidate))
show("mean mde (alpha 0.05, power 0.8)", (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * se)

print("# Welch t-test from summaries, large n")
res = stats.ttest_ind_from_stats(
    mean1=5.02, std1=np.sqrt(4.1), nobs1=250000, mean2=5.0, std2=np.sqrt(3.9), nobs2=260000, equal_var=False
)
show("statistic", res.statistic)
show("pvalue", res.pvalue)

print("# Welch t-test, 90% interval, tiny samples")
a = [1.0, 2.0]
b = [2.5, 4.0, 6.5]
res = stats.ttest_ind(b, a, equal_var=False)
show("statistic", res.statistic)
show("pvalue", res.pvalue)
show("df", res.df)
ci = res.confidence_interval(0.90)
show("diff ci low", ci.low)
show("diff ci high", ci.high)


def two_proportion(x1, n1, x2, n2, confidence=0.95, alpha=0.05, power=0.8):
    p1, p2 = x1 / n1, x2 / n2
    pooled = (x1 + x2) / (n1 + n2)
    se_pooled = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (p2 - p1) / se_pooled
    pvalue = 2 * stats.norm.sf(abs(z))
    crit = stats.norm.ppf(1 - (1 - confidence) / 2)
    se = np.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    mde = (stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) * se_pooled
    print(f"# two-proportion z-test: baseline {x1}/{n1}, candidate {x2}/{n2}")
    show("z", z)
    show("pvalue", pvalue)
    show("diff ci low", p2 - p1 - crit * se)
    show("diff ci high", p2 - p1 + crit * se)
    show("mde", mde)
    for name, x, n in [("baseline", x1, n1), ("candidate", x2, n2)]:
        p = x / n
        half = crit * np.sqrt(p * (1 - p) / n)
        show(f"{name} wald low", p - half)
        show(f"{name} wald high", p + half)


two_proportion(480, 1000, 520, 1000)
two_proportion(5, 40, 12, 38)
two_proportion(120000, 1000000, 121500, 1000000)
