extensions = ["sphinxext_balloon"]
highlight_language = "none"  # as the kernel's conf.py: plain blocks are not highlighted
