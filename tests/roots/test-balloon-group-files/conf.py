extensions = ["sphinxext_balloon"]
