"""@record: a small stand-in for @dataclass on PID 1's way to the console prompt.

`import dataclasses` pulls in inspect (and with it ast, dis, tokenize, linecache...): 0.2 to
0.3 s of a boot under QEMU TCG, before the prompt. The few records on that path (boot
steps, service declarations, mount entries, the console's options and banner) need only
this: fields from the class annotations in order, defaults and default factories,
positional or keyword construction, ==, repr, optional immutability (frozen=True, then
also hashable) and as_dict(). Code after the prompt uses dataclasses as usual.
"""
from __future__ import annotations

__all__ = ["record", "factory", "as_dict", "fields"]

_MISSING = object()


class factory:
    """A default made fresh for each instance: `extra: list[str] = factory(list)`."""

    __slots__ = ("fn",)

    def __init__(self, fn):
        self.fn = fn


def fields(obj_or_cls) -> tuple[str, ...]:
    return obj_or_cls.__record_fields__


def as_dict(obj) -> dict:
    """{field: value}, nested records, lists, tuples and dicts converted (copies)."""
    return {name: _plain(getattr(obj, name)) for name in obj.__record_fields__}


def _plain(v):
    if hasattr(type(v), "__record_fields__"):
        return as_dict(v)
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, tuple):
        return tuple(_plain(x) for x in v)
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v


def record(cls=None, *, frozen: bool = False):
    def wrap(cls):
        names = tuple(n for n, a in cls.__dict__.get("__annotations__", {}).items()
                      if not str(a).startswith(("ClassVar", "typing.ClassVar")))
        defaults = {}
        for n in names:
            if n in cls.__dict__:
                defaults[n] = cls.__dict__[n]
                if isinstance(defaults[n], factory):
                    delattr(cls, n)
            elif defaults:
                raise TypeError(f"non-default field {n!r} follows a default one in "
                                f"{cls.__qualname__}")
        known = frozenset(names)
        setter = object.__setattr__

        def __init__(self, *args, **kw):
            if len(args) > len(names):
                raise TypeError(f"{cls.__qualname__}() takes {len(names)} positional "
                                f"arguments but {len(args)} were given")
            values = dict(zip(names, args))
            for k, v in kw.items():
                if k not in known:
                    raise TypeError(f"{cls.__qualname__}() got an unexpected keyword "
                                    f"argument {k!r}")
                if k in values:
                    raise TypeError(f"{cls.__qualname__}() got multiple values for "
                                    f"argument {k!r}")
                values[k] = v
            for n in names:
                if n not in values:
                    d = defaults.get(n, _MISSING)
                    if d is _MISSING:
                        raise TypeError(f"{cls.__qualname__}() missing required argument "
                                        f"{n!r}")
                    values[n] = d.fn() if isinstance(d, factory) else d
                setter(self, n, values[n])
            post = getattr(self, "__post_init__", None)
            if post is not None:
                post()

        def __repr__(self):
            inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in names)
            return f"{cls.__qualname__}({inner})"

        def __eq__(self, other):
            if other.__class__ is not self.__class__:
                return NotImplemented
            return all(getattr(self, n) == getattr(other, n) for n in names)

        def _frozen(self, name, value=None):
            raise AttributeError(f"cannot assign to field {name!r} of a frozen "
                                 f"{cls.__qualname__}")

        def __hash__(self):
            return hash(tuple(getattr(self, n) for n in names))

        cls.__record_fields__ = names
        cls.__match_args__ = names
        cls.__init__ = __init__
        if "__repr__" not in cls.__dict__:
            cls.__repr__ = __repr__
        cls.__eq__ = __eq__
        if frozen:
            cls.__setattr__ = _frozen
            cls.__delattr__ = _frozen
            cls.__hash__ = __hash__
        else:
            cls.__hash__ = None
        return cls

    return wrap if cls is None else wrap(cls)
