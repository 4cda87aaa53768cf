"""What the three services share: settings, logging, problem+json errors, the HTTP
plumbing (request ids, metrics, health), storage contexts, and the election definition.

Infrastructure only, plus the election definition and ballot rules that more than one
service needs. Domain logic that one service owns stays in that service.
"""
