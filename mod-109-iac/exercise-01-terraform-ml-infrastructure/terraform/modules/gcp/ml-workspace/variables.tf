variable "project_id" {
  type        = string
  description = "GCP project that owns the workspace."
}

variable "name" {
  type        = string
  description = "Name prefix of the workspace's key, service account, Tensorboard and notebook."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,19}$", var.name))
    error_message = "name must be 3-20 lower case letters, digits or dashes, starting with a letter (the service account ID is NAME-workspace, at most 30 characters)."
  }
}

variable "region" {
  type        = string
  description = "Region of the Vertex AI resources and the KMS key ring."
}

variable "zone" {
  type        = string
  description = "Zone of the Workbench instance (inside region)."
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]-[a-z]$", var.zone))
    error_message = "zone must be a GCP zone name such as <region>-a."
  }
}

variable "network" {
  type        = string
  description = "ID of the VPC network the notebook attaches to (gcp/network's network_id)."
}

variable "subnet" {
  type        = string
  description = "ID of the subnet the notebook attaches to (gcp/network's subnet_id)."
}

variable "machine_type" {
  type        = string
  description = "Machine type of the Workbench instance."
  default     = "n1-standard-4"
}

variable "accelerator_type" {
  type        = string
  description = "GPU of the Workbench instance (e.g. NVIDIA_TESLA_T4); null for none."
  default     = null
  validation {
    condition     = var.accelerator_type == null || contains(["NVIDIA_TESLA_T4", "NVIDIA_L4", "NVIDIA_TESLA_V100", "NVIDIA_TESLA_A100"], coalesce(var.accelerator_type, "none"))
    error_message = "accelerator_type must be one of NVIDIA_TESLA_T4, NVIDIA_L4, NVIDIA_TESLA_V100, NVIDIA_TESLA_A100, or null."
  }
}

variable "data_disk_size_gb" {
  type        = number
  description = "Size of the notebook's data disk in GB."
  default     = 100
  validation {
    condition     = var.data_disk_size_gb >= 10 && var.data_disk_size_gb <= 64000
    error_message = "data_disk_size_gb must be between 10 and 64000."
  }
}

variable "instance_owners" {
  type        = list(string)
  description = "User e-mails that may open the notebook (single-user access)."
  default     = []
}

variable "labels" {
  type        = map(string)
  description = "Labels; must include cost-center."
  validation {
    condition     = contains(keys(var.labels), "cost-center")
    error_message = "labels must include a cost-center key."
  }
}
