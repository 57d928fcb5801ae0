"""The product measuring its own answers (issue 15): evaluation sets of cases with what a right answer is,
runs of a set through the real reply pipeline with one model profile, and what the runs say.

Lives with the reply pipeline it runs; the shared core only offers a place to register the promotion gate.
"""
