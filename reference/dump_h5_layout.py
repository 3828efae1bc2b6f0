"""Prints the on-disk HDF5 layout of a file exactly: every group and dataset, its dtype as HDF5
stores it (fixed or variable-length string, character set, integer size and sign, enum), shape,
chunking and filters, and every attribute with its HDF5 type and dataspace (scalar or array).
The LAYOUT.md notes under reference/fixtures/ were written from its output.

Usage: python reference/dump_h5_layout.py FILE.h5ad [FILE ...]
"""
import sys

import h5py


def describe_type(t):
    """An HDF5 datatype in words, e.g. 'string vlen utf-8', 'int64 LE', 'enum int8 {FALSE=0, TRUE=1}'."""
    if isinstance(t, h5py.h5t.TypeStringID):
        cset = "utf-8" if t.get_cset() == h5py.h5t.CSET_UTF8 else "ascii"
        size = "vlen" if t.is_variable_str() else f"fixed {t.get_size()} bytes"
        pad = {h5py.h5t.STR_NULLTERM: "nullterm", h5py.h5t.STR_NULLPAD: "nullpad", h5py.h5t.STR_SPACEPAD: "spacepad"}[t.get_strpad()]
        return f"string {size} {cset} {pad}"
    if isinstance(t, h5py.h5t.TypeEnumID):
        members = ", ".join(f"{t.get_member_name(i).decode()}={t.get_member_value(i)}" for i in range(t.get_nmembers()))
        return f"enum {describe_type(t.get_super())} {{{members}}}"
    if isinstance(t, h5py.h5t.TypeIntegerID):
        sign = "int" if t.get_sign() == h5py.h5t.SGN_2 else "uint"
        order = "LE" if t.get_order() == h5py.h5t.ORDER_LE else "BE"
        return f"{sign}{8 * t.get_size()} {order}"
    if isinstance(t, h5py.h5t.TypeFloatID):
        return f"float{8 * t.get_size()}"
    if isinstance(t, h5py.h5t.TypeReferenceID):
        return "object reference" if t.get_size() == 8 and t.equal(h5py.h5t.STD_REF_OBJ) else f"reference ({t.get_size()} bytes)"
    if isinstance(t, h5py.h5t.TypeVlenID):
        return f"vlen sequence of {describe_type(t.get_super())}"
    if isinstance(t, h5py.h5t.TypeCompoundID):
        return "compound {" + ", ".join(f"{t.get_member_name(i).decode()}: {describe_type(t.get_member_type(i))}" for i in range(t.get_nmembers())) + "}"
    return type(t).__name__


def describe_space(space):
    if space.get_simple_extent_type() == h5py.h5s.SCALAR:
        return "scalar"
    if space.get_simple_extent_type() == h5py.h5s.NULL:
        return "null"
    return f"array {space.shape}"


def attributes(obj, indent):
    for name in obj.attrs:
        a = h5py.h5a.open(obj.id, name.encode())
        try:
            value = obj.attrs[name]
        except Exception as e:  # noqa: BLE001 - an unreadable value is reported, not fatal
            value = f"<{e}>"
        if isinstance(value, h5py.Reference):
            value = f"<ref to {obj.file[value].name}>"
        print(f"{indent}@{name}: {describe_type(a.get_type())}, {describe_space(a.get_space())} = {value!r}")


def walk(group, indent=""):
    attributes(group, indent + "  ")
    for name in group:  # h5py lists members in name order
        obj = group[name]
        if isinstance(obj, h5py.Group):
            print(f"{indent}  {name}/  (group)")
            walk(obj, indent + "  ")
        else:
            filters = ", ".join(f for f in [obj.compression and f"{obj.compression} {obj.compression_opts}", obj.shuffle and "shuffle"] if f)
            layout = f"chunks {obj.chunks}" if obj.chunks else "contiguous"
            print(f"{indent}  {name}  (dataset) {describe_type(obj.id.get_type())}, {describe_space(obj.id.get_space())}, {layout}{', ' + filters if filters else ''}")
            attributes(obj, indent + "    ")


if __name__ == "__main__":
    for path in sys.argv[1:]:
        with h5py.File(path, "r") as f:
            print(f"{path}  (root group)")
            walk(f)
