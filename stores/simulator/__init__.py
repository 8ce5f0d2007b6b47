"""A loopback simulator of Google Play's and App Store Connect's publishing APIs that checks every
request against the official descriptions (see `descriptions`) and keeps the stores' state rules.
Run it with `python -m stores.simulator --port N`; tests and `make demo` read `/_sim/requests`."""

from stores.simulator.play import make_test_bundle
from stores.simulator.server import SimulatorConfig, StoreSimulator, create_app

__all__ = ["SimulatorConfig", "StoreSimulator", "create_app", "make_test_bundle"]
