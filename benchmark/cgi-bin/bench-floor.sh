#!/bin/sh
# The shell floor: the cheapest CGI program there is.
printf 'Content-Type: text/plain\r\n\r\nfloor\n'
