"""Mutations whose answers are large or printed, for the mutation-log tests."""

from authlib_core import mutation, query, v


@mutation(args={"size": v.float64(), "lines": v.float64()})
def blob(ctx, size, lines):
    """Insert a row and return ``size`` characters, after printing ``lines`` lines of 1,000 characters."""
    for _ in range(int(lines)):
        print("x" * 1000)
    ctx.db.insert("rows", {"size": size})
    return "é" * int(size)


@query(args={})
def count(ctx):
    """How many rows ``blob`` inserted."""
    return float(len(ctx.db.query("rows").collect()))
