#!/usr/bin/python3 -IS
"""The Python floor: an interpreter started the way the kit's scripts start, printing one line."""

print("Content-Type: text/plain\r\n\r\nfloor")
