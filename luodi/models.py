"""Imports every model module so ``Base.metadata`` is complete (Alembic and tests rely on it)."""

from luodi import audit  # noqa: F401
from luodi.auth import models as auth_models  # noqa: F401
from luodi.db import Base
from luodi.docking import models as docking_models  # noqa: F401
from luodi.inventory import catalogue_models, models  # noqa: F401
from luodi.landing import models as landing_models  # noqa: F401
from luodi.push import ledger  # noqa: F401
from luodi.push import models as push_models  # noqa: F401

metadata = Base.metadata
