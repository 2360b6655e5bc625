"""Views that answer htmx with a piece of a page: opened directly, they send the browser to that page."""

from collections.abc import Callable
from functools import wraps

from django.shortcuts import redirect
from django.urls import reverse


def fragment_of(page: str, *, anchor: str = "") -> Callable:
    """Mark a view as a fragment of `page` (a URL name taking the same arguments as the view).

    htmx asks for the fragment with an HX-Request header; a link opened in a new tab, a bookmark or a
    reload sends none and would show bare, unstyled HTML, so such a GET is redirected to the page
    the fragment belongs to, keeping the query string (the page loads the fragment itself).
    """

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method == "GET" and not request.htmx:
                url = reverse(page, args=args, kwargs=kwargs)
                query = request.GET.urlencode()
                return redirect(url + (f"?{query}" if query else "") + (f"#{anchor}" if anchor else ""))
            return view(request, *args, **kwargs)

        # Read by the tests' hostile catalogue, which asks a fragment the way htmx does.
        wrapper.fragment_page = page
        return wrapper

    return decorate
