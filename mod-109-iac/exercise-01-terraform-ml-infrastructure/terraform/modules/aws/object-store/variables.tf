variable "name" {
  type        = string
  description = "Bucket name (globally unique, 3-63 lower case characters)."
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.name))
    error_message = "name must be a valid S3 bucket name: 3-63 lower case letters, digits, dots and dashes."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key for SSE-KMS; null creates a dedicated key with rotation."
  default     = null
}

variable "noncurrent_version_days" {
  type        = number
  description = "Days to keep noncurrent object versions (model rollbacks need a few); null keeps every version and creates no lifecycle rule."
  default     = 90
  validation {
    condition     = var.noncurrent_version_days == null || try(var.noncurrent_version_days >= 1 && var.noncurrent_version_days <= 3650, false)
    error_message = "noncurrent_version_days must be null or between 1 and 3650."
  }
}

variable "force_destroy" {
  type        = bool
  description = "Allow destroying a bucket that still holds objects (dev only)."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource; must include cost-center."
  validation {
    condition     = contains(keys(var.tags), "cost-center")
    error_message = "tags must include a cost-center key."
  }
}
