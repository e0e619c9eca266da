"""localcloud: moto's server plus chatbot and supportapp, seeding and fault injection.

Everything runs on loopback; see localcloud/README.md and `localcloud/serve --help`.
"""
