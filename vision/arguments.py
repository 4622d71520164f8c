"""The types of command-line values the vision commands share (argparse's `type=`): a value out
of range is refused as the command line is read, in one line naming the option, not after the
models have loaded and the photos have been embedded."""

import argparse


def fraction(text):
    """A share strictly between 0 and 1 (--holdout-fraction, --target-precision)."""
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def fraction_or_zero(text):
    """A fraction, or 0 for none (the training script's --holdout-fraction: 0 holds nothing out)."""
    return 0.0 if float(text) == 0 else fraction(text)


def whole_number(minimum):
    """The type of a whole number of at least `minimum` (a count: --composites)."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"must be a whole number, at least {minimum} (not {text!r})")
        return value
    return parse
