"""The Atmosphere release runbook as a library: what to run and how to judge the result."""
