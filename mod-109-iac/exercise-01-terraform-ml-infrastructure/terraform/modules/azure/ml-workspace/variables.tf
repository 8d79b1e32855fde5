variable "name" {
  type        = string
  description = "Name prefix of the workspace and its Key Vault, storage account, App Insights and identity."
  validation {
    condition     = can(regex("^[a-z][a-z0-9]{2,15}$", var.name))
    error_message = "name must be 3-16 lower case letters and digits, starting with a letter (it prefixes the storage account and Key Vault names)."
  }
}

variable "resource_group_name" {
  type        = string
  description = "Resource group that holds the workspace and its dependencies."
}

variable "location" {
  type        = string
  description = "Azure region."
}

variable "container_registry_id" {
  type        = string
  description = "ID of the registry the workspace builds and pulls images from (azure/container-registry's registry_id); null lets Azure ML create one on first use."
  default     = null
}

variable "allowed_ip_ranges" {
  type        = list(string)
  description = "Public IPv4 ranges (CIDR) allowed through the Key Vault and storage firewalls, e.g. the deployer's egress, which creates the CMK key."
  default     = []
  validation {
    condition     = alltrue([for r in var.allowed_ip_ranges : can(cidrhost(r, 0))])
    error_message = "allowed_ip_ranges must be IPv4 CIDR ranges."
  }
}

variable "isolation_mode" {
  type        = string
  description = "Managed network isolation of the workspace's computes."
  default     = "AllowOnlyApprovedOutbound"
  validation {
    condition     = contains(["AllowInternetOutbound", "AllowOnlyApprovedOutbound"], var.isolation_mode)
    error_message = "isolation_mode must be AllowInternetOutbound or AllowOnlyApprovedOutbound."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the Log Analytics workspace behind App Insights, in days."
  default     = 30
  validation {
    condition     = var.log_retention_days >= 30 && var.log_retention_days <= 730
    error_message = "log_retention_days must be between 30 and 730."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags; must include cost-center."
  validation {
    condition     = contains(keys(var.tags), "cost-center")
    error_message = "tags must include a cost-center key."
  }
}
