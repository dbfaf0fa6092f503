#!/usr/bin/python3
"""The hello form as a tutorial would write it: cgi.FieldStorage (python3-legacy-cgi on 3.13+)."""

import cgi
import html

form = cgi.FieldStorage()
name = form.getfirst("name", "")
moods = [
    line
    for field, line in (("happy", "You are happy."), ("sad", "You are sad."))
    if form.getfirst(field)
]
print("Content-Type: text/html; charset=utf-8")
print()
print(f"<!DOCTYPE html><html><body><h1>Hello, {html.escape(name)}!</h1>")
print("".join(f"<p>{line}</p>" for line in moods) + "</body></html>")
