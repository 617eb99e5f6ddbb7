"""aubench: OpenFace 2.2 Action Unit extraction in Python, faithful and fast.

The package is split like OpenFace's own libraries:

- ``aubench.pipeline.detect``     -- MTCNN face detection (``LandmarkDetector::FaceDetectorMTCNN``)
- ``aubench.pipeline.landmarks``  -- CLNF landmark fitting, tracking, pose and gaze
  (``LandmarkDetector``, ``GazeAnalyser``)
- ``aubench.pipeline.au``         -- alignment, FHOG, geometry, AU predictors (``FaceAnalyser``)
- ``aubench.pipeline.models``     -- readers for OpenFace's model files and the model store
- ``aubench.pipeline.io``         -- inputs (video, images) and OpenFace-format outputs
- ``aubench.pipeline.registry``   -- hot kernels and their swappable variants
- ``aubench.pipeline.config``     -- TOML configuration as frozen dataclasses
"""

from aubench import __version__  # noqa: F401 (one version, aubench/__init__.py)
