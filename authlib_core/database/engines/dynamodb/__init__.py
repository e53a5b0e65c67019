"""The DynamoDB engine (boto3 is imported only below this package)."""
