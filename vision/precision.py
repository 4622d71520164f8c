"""The exact interval of a precision seen on a sample: SciPy only, so the web process can use it
(the Quality page's live precision) as well as the evaluator."""


def precision_interval(right, taken, confidence_level=0.90):
    """The exact (Clopper-Pearson) interval of a precision seen as `right` of `taken`: at the
    default 90 %, its lower end is the one-sided 95 % lower bound."""
    from scipy.stats import binomtest

    interval = binomtest(int(right), int(taken)).proportion_ci(confidence_level=confidence_level, method="exact")
    return float(interval.low), float(interval.high)
