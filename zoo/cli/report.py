"""``zoo report``: one markdown table of finished runs, each beside its same-run baseline.

    zoo report runs/newsgroups runs/sms_spam
    zoo report docs/results/*

A directory that is not a finished run is named on stderr (one line each)
and left out; the others still make the table.
"""

import sys

from zoo.cli.flags import EXIT_INPUT, ArgumentParser, one_line, one_line_errors
from zoo.lazy import lazy_module

report = lazy_module("zoo.evaluation.report")  # (matplotlib and scikit-learn: not for `zoo report --help`)


def main(argv=None):
    parser = ArgumentParser(prog="zoo report", description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run directories (with config.json and "
                                                                        "metrics.json)")
    args = parser.parse_args(argv)
    with one_line_errors():
        table, problems = report.runs_table(args.run_dirs)
        for problem in problems:
            print(f"warning: {one_line(problem)}", file=sys.stderr)
        if len(problems) == len(args.run_dirs):
            print("error: no finished run among the directories given", file=sys.stderr)
            raise SystemExit(EXIT_INPUT)
        print(table)
