"""Hypothesis strategies for Convex values, edge cases included."""

from __future__ import annotations

import math
import struct

from hypothesis import strategies as st

from authlib_core.values import Int64, Value

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def float_from_bits(bits: int) -> float:
    """The double whose IEEE bits are ``bits`` (NaN payloads and signs preserved)."""
    number: float = struct.unpack("<d", struct.pack("<Q", bits))[0]
    return number


NEG_NAN = float_from_bits(0xFFF8_0000_0000_0000)

EDGE_FLOATS = [0.0, -0.0, math.inf, -math.inf, math.nan, NEG_NAN, 5e-324, -5e-324, 1.0, -1.0, 2.0**53, 1e308]
EDGE_INTS = [INT64_MIN, INT64_MIN + 1, -(2**32), -(2**16), -256, -255, -1, 0, 1, 255, 256, 2**16, 2**32, INT64_MAX]

floats = st.one_of(
    st.sampled_from(EDGE_FLOATS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(0, 2**64 - 1).map(float_from_bits),
)
int64s = st.one_of(st.sampled_from(EDGE_INTS), st.integers(INT64_MIN, INT64_MAX)).map(Int64)
# A small alphabet makes shared prefixes (and 0x00 / 0x01 bytes) common.
strings = st.one_of(
    st.text(alphabet="\x00\x01a\u00e9\uffff\U0001f600", max_size=5),
    st.text(max_size=8),
)
binaries = st.one_of(st.binary(max_size=5), st.lists(st.sampled_from([0, 1, 2, 255]), max_size=5).map(bytes))
keys = st.text(alphabet="ab_Z ~", max_size=3)

scalars: st.SearchStrategy[Value] = st.one_of(st.none(), st.booleans(), int64s, floats, strings, binaries)
values: st.SearchStrategy[Value] = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(keys, children, max_size=4),
    ),
    max_leaves=10,
)
