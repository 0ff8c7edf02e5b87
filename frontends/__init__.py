"""snncc.frontends"""
