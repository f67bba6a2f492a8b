"""AWS identities: EKS-style tokens, ARNs and the aws-auth mapping. Pure logic, plus STS calls in sts.py."""
