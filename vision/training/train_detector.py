"""Train the class-agnostic product detector (vision.detect) on real photos with boxed products
and on composites of packshot cut-outs (vision/training/detector.py says how).

    python -m vision.training.train_detector --instances FILE.json --photos DIR --name NAME
        [--init DETECTOR] [--epochs N] [--resume]
"""

from .detector import get_args_parser, main

if __name__ == "__main__":
    main(get_args_parser().parse_args())
