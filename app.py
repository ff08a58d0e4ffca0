"""DeepDream Studio: the page's entry in a checkout (``streamlit run app.py``).

The page itself lives in the ``deepdream_studio`` package (``deepdream_studio/app.py``), so
the installed ``deepdream-studio`` command serves the very same page.
"""

from deepdream_studio.app import main

main()
