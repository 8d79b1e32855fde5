variable "project_id" {
  type        = string
  description = "GCP project that owns the repository."
}

variable "name" {
  type        = string
  description = "Repository ID (lower case letters, digits and dashes)."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,62}$", var.name))
    error_message = "name must be 3-63 lower case letters, digits or dashes, starting with a letter."
  }
}

variable "location" {
  type        = string
  description = "Region or multi-region of the repository."
}

variable "kms_key_name" {
  type        = string
  description = "Cloud KMS key (projects/P/locations/L/keyRings/R/cryptoKeys/K) that encrypts the images (CMEK)."
  validation {
    condition     = can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.kms_key_name))
    error_message = "kms_key_name must be a full Cloud KMS key name: projects/P/locations/L/keyRings/R/cryptoKeys/K."
  }
}

variable "keep_images" {
  type        = number
  description = "Most recent versions per package the cleanup policy keeps."
  default     = 30
  validation {
    condition     = var.keep_images >= 1 && var.keep_images <= 1000
    error_message = "keep_images must be between 1 and 1000."
  }
}

variable "untagged_retention_days" {
  type        = number
  description = "Days after which untagged images are deleted."
  default     = 14
  validation {
    condition     = var.untagged_retention_days >= 1
    error_message = "untagged_retention_days must be at least 1."
  }
}

variable "cleanup_dry_run" {
  type        = bool
  description = "Only report what the cleanup policies would delete."
  default     = false
}

variable "readers" {
  type        = list(string)
  description = "IAM members granted roles/artifactregistry.reader (e.g. serviceAccount:x@p.iam.gserviceaccount.com)."
  default     = []
  validation {
    condition     = alltrue([for m in var.readers : !contains(["allUsers", "allAuthenticatedUsers"], m)])
    error_message = "readers must not include allUsers or allAuthenticatedUsers: the repository is private."
  }
}

variable "writers" {
  type        = list(string)
  description = "IAM members granted roles/artifactregistry.writer (CI pushers)."
  default     = []
  validation {
    condition     = alltrue([for m in var.writers : !contains(["allUsers", "allAuthenticatedUsers"], m)])
    error_message = "writers must not include allUsers or allAuthenticatedUsers: the repository is private."
  }
}

variable "labels" {
  type        = map(string)
  description = "Labels; must include cost-center."
  validation {
    condition     = contains(keys(var.labels), "cost-center")
    error_message = "labels must include a cost-center key."
  }
}
