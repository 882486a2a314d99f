extensions = ["sphinxext_balloon"]
balloon_strict = True
suppress_warnings = ["balloon.layout.whitespace"]
