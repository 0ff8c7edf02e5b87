"""snncc.targets"""
