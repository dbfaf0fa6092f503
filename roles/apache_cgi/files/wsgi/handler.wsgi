# The apache_cgi role's handler for persistent mode (roles/apache_cgi/files/wsgi/):
# mod_wsgi calls handle_request for each script of a site in wsgi mode, in the
# site's own processes, whose python-path is the site's helper folder: the
# cgikit imported here is the site's own.
from cgikit import handle_request

__all__ = ["handle_request"]
