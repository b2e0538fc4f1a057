from .toy_shapes import CLASSES, PALETTE, make_toy_shapes

__all__ = ['CLASSES', 'PALETTE', 'make_toy_shapes']
