"""``wirewatch train alerts|stance FILE.jsonl [...]``: the command's arguments (light: the CLI builds its parser on
every start, so the training code is imported only when the command runs)."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(sub: Any) -> None:
    """Adds `wirewatch train` (the CLI's command-group interface)."""
    parser = sub.add_parser("train", help="retrain a learned component from labelled JSONL files")
    parser.add_argument("what", choices=("alerts", "stance"))
    parser.add_argument("files", nargs="+", metavar="FILE.jsonl")
    parser.add_argument("--out", default=None, help="directory for the weights and card (default: the shipped model)")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds, grouped by source (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fold splits and the models (default 0)")
    parser.add_argument(
        "--splits",
        type=int,
        default=5,
        help="fold splits the kept model is cross-validated on (seeds SEED, SEED+1, ...; default 5): the split "
        "alone moves the figures",
    )
    parser.add_argument(
        "--representation",
        action="append",
        default=None,
        help="compare only this representation (repeat the option; default: every one the model knows)",
    )
    parser.add_argument(
        "--parse-cache",
        default=None,
        metavar="DIR",
        help="keep the parsed passages in DIR between runs (alerts; default: parse every run)",
    )
    parser.set_defaults(func=cmd_train)


def cmd_train(settings: Any, args: argparse.Namespace) -> int:
    try:
        import sklearn  # noqa: F401  (training-only dependency: say so before parsing anything)
    except ImportError:
        print("wirewatch: training needs scikit-learn: pip install 'wirewatch[train]'", file=sys.stderr)
        return 2
    if args.what == "stance":
        from ..stance.train import cmd_train as train_stance  # heavy imports kept off the CLI's start

        return train_stance(settings, args)
    # heavy imports (spaCy, scikit-learn) kept off the CLI's start
    from ..alert_model import REPRESENTATIONS, shipped_model_dir
    from ..analyzer import load_nlp
    from .alerts_train import train

    unknown = set(args.representation or ()) - set(REPRESENTATIONS)
    if unknown:
        print(
            f"wirewatch: unknown representation {sorted(unknown)}; one of {', '.join(REPRESENTATIONS)}", file=sys.stderr
        )
        return 2
    train(
        args.files,
        out_dir=args.out or shipped_model_dir(),
        folds=args.folds,
        seed=args.seed,
        representations=args.representation or REPRESENTATIONS,
        nlp=load_nlp(settings),
        parse_cache=args.parse_cache,
        splits=args.splits,
    )
    return 0
