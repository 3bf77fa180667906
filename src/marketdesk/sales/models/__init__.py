"""The sales app's rows, one module per sub-domain (products, opportunities, orders with
deliveries, receipts with credit, targets with rollups)."""

from .common import *  # noqa: F403
from .opportunities import *  # noqa: F403
from .orders import *  # noqa: F403
from .products import *  # noqa: F403
from .receipts import *  # noqa: F403
from .targets import *  # noqa: F403
