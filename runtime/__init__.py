"""snncc.runtime"""
