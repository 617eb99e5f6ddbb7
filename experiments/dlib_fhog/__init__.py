"""Check the ``fhog`` variants against dlib itself (needs g++ and the dlib 19.24 sources)."""
