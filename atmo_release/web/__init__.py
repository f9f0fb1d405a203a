"""What users see: the apps over HTTP (versions, maintenance page, 503s) and in a browser
(headless Chromium and the journey a user takes through Troposphere).

Rule: reads a URL and judges what came back; knows no target and no run.
May import: the top of the package.
"""
