variable "name" {
  type        = string
  description = "Name prefix of the virtual network, subnet and NSG."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}$", var.name))
    error_message = "name must be 3-41 lower case letters, digits or dashes, starting with a letter."
  }
}

variable "resource_group_name" {
  type        = string
  description = "Resource group that holds the network."
}

variable "location" {
  type        = string
  description = "Azure region."
}

variable "address_space" {
  type        = string
  description = "Address space of the virtual network."
  default     = "10.60.0.0/16"
  validation {
    condition     = can(cidrhost(var.address_space, 0))
    error_message = "address_space must be a valid IPv4 CIDR."
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
