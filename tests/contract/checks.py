"""Named checks counted to the end of a test script (tests/contract/evaluate_contract.py,
tests/ops/ops_e2e.py): a failure prints a FAIL line at once and the run goes on; finish()
prints the totals and exits 1 when any check failed."""
import sys


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def __call__(self, name, cond, detail=""):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL %s %s" % (name, detail))

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.exit(1 if self.failed else 0)
