variable "name" {
  type        = string
  description = "Storage account name (3-24 lower case letters and digits, globally unique)."
  validation {
    condition     = can(regex("^[a-z0-9]{3,24}$", var.name))
    error_message = "name must be 3-24 lower case letters and digits."
  }
}

variable "resource_group_name" {
  type        = string
  description = "Resource group that holds the account."
}

variable "location" {
  type        = string
  description = "Azure region."
}

variable "containers" {
  type        = list(string)
  description = "Private blob containers to create (e.g. datasets, models)."
  default     = ["datasets", "models"]
}

variable "tags" {
  type        = map(string)
  description = "Tags; must include cost-center."
  validation {
    condition     = contains(keys(var.tags), "cost-center")
    error_message = "tags must include a cost-center key."
  }
}
