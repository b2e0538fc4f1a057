"""The toy shapes generator (``python -m se_backbones.data.toy_shapes``). Its names load on
first use, so that running the module with ``-m`` does not import it twice."""

__all__ = ['CLASSES', 'PALETTE', 'make_toy_shapes']


def __getattr__(name):
    if name in __all__:
        from . import toy_shapes

        return getattr(toy_shapes, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
