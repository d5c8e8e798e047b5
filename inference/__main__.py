"""`python -m inference`: serve the app on the configured host and port."""

import uvicorn

from inference.settings import InferenceSettings

if __name__ == "__main__":
    settings = InferenceSettings()
    uvicorn.run("inference.app:app", host=settings.HOST, port=settings.PORT)
