"""Helpers shared by every test suite (product, sandbox, contract, deploy) and the benchmarks.

Nothing here imports the product or the sandbox, so any suite may use it without crossing the import
contracts.
"""
