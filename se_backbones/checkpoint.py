"""Loading MMEngine's own training checkpoints under torch>=2.6's ``weights_only=True``."""
import torch


def allow_mmengine_checkpoints():
    """Allow the few non-tensor types MMEngine writes into its checkpoints, so resuming and
    testing work while every load keeps ``weights_only=True``.

    They are the message hub's ``HistoryBuffer``, the numpy arrays, dtypes and scalars in it,
    and ``getattr`` (a buffer stores ``HistoryBuffer.min`` etc. as ``getattr(HistoryBuffer,
    'min')``). The unpickler still calls only allowlisted functions, so a checkpoint that
    carries code is refused.
    """
    import numpy as np
    from mmengine.logging import HistoryBuffer
    from numpy._core.multiarray import _reconstruct, scalar
    dtype_classes = {type(np.dtype(t)) for t in (np.float64, np.float32, np.int64, np.int32)}
    torch.serialization.add_safe_globals(
        [HistoryBuffer, np.ndarray, np.dtype, _reconstruct, scalar, getattr, *dtype_classes])
