variable "bucket_name" {
  type        = string
  description = "Name of the state bucket (globally unique)."
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name."
  }
}

variable "lock_table_name" {
  type        = string
  description = "Name of the DynamoDB lock table; null skips it (S3 lockfiles only, use_lockfile = true)."
  default     = null
}

variable "noncurrent_version_days" {
  type        = number
  description = "Days to keep old state versions (what a rollback can reach)."
  default     = 365
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource; must include cost-center."
  validation {
    condition     = contains(keys(var.tags), "cost-center")
    error_message = "tags must include a cost-center key."
  }
}
