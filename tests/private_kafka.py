"""Where the integration tests' private three-broker cluster listens (tests/integration/
conftest.py starts it): clear of the shared stack's ports."""

PRIVATE_PORT, PRIVATE_CONTROLLER = 19292, 19392
PRIVATE_BOOTSTRAP = ",".join(f"127.0.0.1:{PRIVATE_PORT + i}" for i in range(3))
