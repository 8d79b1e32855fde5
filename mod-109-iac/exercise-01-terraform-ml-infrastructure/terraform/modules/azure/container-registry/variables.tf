variable "name" {
  type        = string
  description = "Registry name (5-50 letters and digits, globally unique)."
  validation {
    condition     = can(regex("^[a-zA-Z0-9]{5,50}$", var.name))
    error_message = "name must be 5-50 letters and digits."
  }
}

variable "resource_group_name" {
  type        = string
  description = "Resource group that holds the registry."
}

variable "location" {
  type        = string
  description = "Azure region."
}

variable "georeplication_locations" {
  type        = list(string)
  description = "Further regions the registry is replicated to (zone redundant)."
  default     = []
}

variable "untagged_retention_days" {
  type        = number
  description = "Days untagged manifests are kept before they are purged."
  default     = 14
  validation {
    condition     = var.untagged_retention_days >= 0 && var.untagged_retention_days <= 365
    error_message = "untagged_retention_days must be between 0 and 365."
  }
}

variable "private_endpoint_subnet_id" {
  type        = string
  description = "Subnet for the registry's private endpoint (azure/network's subnet_id); null for none."
  default     = null
}

variable "private_dns_zone_ids" {
  type        = list(string)
  description = "privatelink.azurecr.io DNS zone IDs the private endpoint registers in."
  default     = []
}

variable "pull_principal_ids" {
  type        = list(string)
  description = "Object IDs granted AcrPull on the registry (e.g. a workspace identity)."
  default     = []
}

variable "tags" {
  type        = map(string)
  description = "Tags; must include cost-center."
  validation {
    condition     = contains(keys(var.tags), "cost-center")
    error_message = "tags must include a cost-center key."
  }
}
