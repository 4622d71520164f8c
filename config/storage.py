"""The options of django-storages' S3 backend as the app uses it: the same for the bucket of the
settings (CATALOG_S3_OPTIONS) and for the tests' buckets of their own."""


def s3_options(bucket_name, endpoint_url=None, region_name=None, addressing_style="auto", querystring_expire=300,
               **keys):
    """`keys`: access_key and secret_key, where not from the environment (AWS_ACCESS_KEY_ID ...)."""
    # Imported here: an install on local disk never loads botocore at start-up.
    from botocore.config import Config

    return {
        "bucket_name": bucket_name,
        "endpoint_url": endpoint_url,
        "region_name": region_name,
        "default_acl": None,  # the bucket's own: private
        "querystring_auth": True,
        "querystring_expire": querystring_expire,
        "file_overwrite": False,  # as on disk: a name taken gets a suffix, nothing is overwritten
        # (django-storages takes the addressing style and the signature from here when given this.)
        "client_config": Config(
            # Servers other than AWS's (SeaweedFS, MinIO) are addressed by path, not by bucket host name.
            s3={"addressing_style": addressing_style},
            signature_version="s3v4",
            # A storage that does not answer fails a request within seconds (an upload answers 503, a
            # photo's task retries) rather than holding a web thread for botocore's minutes of retries.
            connect_timeout=5, read_timeout=30, retries={"max_attempts": 2, "mode": "standard"}),
        **keys,
    }
