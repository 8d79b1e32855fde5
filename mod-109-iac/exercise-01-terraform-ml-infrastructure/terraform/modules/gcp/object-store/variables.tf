variable "project_id" {
  type        = string
  description = "GCP project that owns the bucket."
}

variable "name" {
  type        = string
  description = "Bucket name (globally unique)."
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$", var.name))
    error_message = "name must be a valid GCS bucket name."
  }
}

variable "location" {
  type        = string
  description = "Bucket location (region or multi-region)."
}

variable "kms_key_name" {
  type        = string
  description = "Cloud KMS key for CMEK; null uses Google-managed encryption."
  default     = null
}

variable "noncurrent_version_days" {
  type        = number
  description = "Days to keep noncurrent object versions."
  default     = 90
}

variable "labels" {
  type        = map(string)
  description = "Labels; must include cost-center."
  validation {
    condition     = contains(keys(var.labels), "cost-center")
    error_message = "labels must include a cost-center key."
  }
}
