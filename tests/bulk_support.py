from catalog.models import BulkJob
from worker.tasks import import_bulk_job


def send_bulk(api, headers=None, **data):
    """POST a bulk request, then run its import as a worker would: (the response, the job as a
    poll finds it afterwards, or None when the request was refused)."""
    response = api.post("/api/v1/bulk-jobs/", data, headers=headers or {})
    if response.status_code != 202:
        return response, None
    uuid = response.json()["uuid"]
    import_bulk_job(BulkJob.objects.get(uuid=uuid).pk)
    return response, api.get(f"/api/v1/bulk-jobs/{uuid}/").json()
