"""snncc.passes"""
