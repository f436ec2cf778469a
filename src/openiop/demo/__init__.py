"""The synthetic demo clinic: `openiop demo` builds it (`generator.build_demo`).

The top of the app map: no other app imports it. Each app's own `demo.py` step adds its data
through the `DemoContext` defined here (docs/DEVELOPING.md, "The app map").
"""
